// Texts of sms: [en, nl, de]. Filled by the work on that area.
export const smsTexts = {
};
