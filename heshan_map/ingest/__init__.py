"""Read uploaded files into site records, without the database or the web.

sniff tells a file's format; readers is the registry of one reader per format (spreadsheets, gis, landreport);
validate maps a table's headers to sitefields and rows checks the records, the one check uploads and REST edits
share, against the gazetteer and county (places) the caller passes in.
"""
