// Texts of ad hoc client requests (K3): [en, nl, de].
export const adhocTexts = {
};
