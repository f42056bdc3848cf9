// Tests of WrapperTests come with their issue.
