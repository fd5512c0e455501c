// The form validator: ajv8 through @rjsf/validator-ajv8, knowing the formats the
// node catalogue's schemas use (msgspec writes decimals as strings with format "decimal").
import { customizeValidator } from "@rjsf/validator-ajv8";

export const validator = customizeValidator({
  customFormats: {
    decimal: /^-?\d+(\.\d+)?$/,
  },
});
