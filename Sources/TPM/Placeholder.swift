// The TPM module; see DESIGN.md.
