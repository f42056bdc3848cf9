// The Mount module (FUSE view); built by the mount issue.
