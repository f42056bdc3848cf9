// Tests of VaulthallaTests come with their issue.
