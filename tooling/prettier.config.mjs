// Shared Prettier config. 160 columns: the codebase keeps one statement a line where it reads well.
export default { printWidth: 160, singleQuote: false, trailingComma: "all", semi: true };
