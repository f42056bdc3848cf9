// Tests of CatalogTests come with their issue.
