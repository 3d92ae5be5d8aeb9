"""The yearly report of a region to the Ministry of Ecology, and national aggregates."""
