// Texts of procedure registrations (P5 screen): [en, nl, de].
export const registrationsTexts = {
};
