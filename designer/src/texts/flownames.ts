// Texts of flow names per language (D6 German demo): [en, nl, de].
export const flownamesTexts = {
};
