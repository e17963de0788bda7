// #include of a file that does not exist
#include "include/before_ingress.p4"
#include "include/no_such_file.p4"
#include "include/ingress.p4"
#include "include/after_ingress.p4"
