"""The P4 front end: preprocessor, lexer, parser, AST and checker."""
