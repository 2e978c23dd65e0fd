"""The geography service: place a record in its 2017 best-fit ward (boundaries, the postcode directory, postcodes.io)."""
