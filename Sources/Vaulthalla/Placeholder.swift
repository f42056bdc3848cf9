// The Vaulthalla module; see DESIGN.md.
