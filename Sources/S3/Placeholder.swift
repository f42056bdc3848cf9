// The S3 module; see DESIGN.md.
