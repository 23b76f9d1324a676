"""One module per department: the household's section from that department."""
