// Tests of S3Tests come with their issue.
