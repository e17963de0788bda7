// a struct with a string field
#include "include/before_ingress.p4"

struct label_t {
    string text;
    bit<8> code;
}

#include "include/ingress.p4"
#include "include/after_ingress.p4"
