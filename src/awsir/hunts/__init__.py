"""Built-in incident hunts: one SQL file each, its metadata in the comment block at its top."""
