// Texts of phases: [en, nl, de]. Filled by the work on that area.
export const phasesTexts = {
};
