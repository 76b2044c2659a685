// Filled by the bad-input tests.
