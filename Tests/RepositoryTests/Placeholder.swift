// Tests of RepositoryTests come with their issue.
