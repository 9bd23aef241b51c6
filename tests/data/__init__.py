"""Sample upload files and the scripts that generate them."""
