// a struct inside a header must have fixed-width fields only
#include "include/before_ingress.p4"

struct inner_t { bit<8> len; varbit<8> rest; }
header outer_h { bit<8> tag; inner_t inner; }

#include "include/ingress.p4"
#include "include/after_ingress.p4"
