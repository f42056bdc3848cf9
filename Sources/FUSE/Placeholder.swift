// The FUSE module; see DESIGN.md.
