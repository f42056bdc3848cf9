// The GPG module; see DESIGN.md.
