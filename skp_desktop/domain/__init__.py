"""Pure Python: periods, definitions, Decimal values, validation, RAG. Imports nothing of ours."""
