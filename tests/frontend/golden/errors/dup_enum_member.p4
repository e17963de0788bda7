// an enum with the same member twice
#include "include/v1.p4"

enum Color { Red, Green, Red }

#include "include/parser.p4"
#include "include/after_parser.p4"
