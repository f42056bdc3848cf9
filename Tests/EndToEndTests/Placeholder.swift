// Tests of EndToEndTests come with their issue.
