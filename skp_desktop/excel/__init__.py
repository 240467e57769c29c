"""openpyxl: return writer, template writer, the guarded reader, the merged workbook."""
