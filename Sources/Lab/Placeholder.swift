// The Lab module; see DESIGN.md.
