// Tests of LabTests come with their issue.
