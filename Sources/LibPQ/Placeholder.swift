// The LibPQ module; see DESIGN.md.
