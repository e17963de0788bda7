"""The Lark grammar of our P4_16 subset (p4.lark), installed as package data."""
