"""Read side: queries that return plain data for pages, the API and the CLI; they never write."""
