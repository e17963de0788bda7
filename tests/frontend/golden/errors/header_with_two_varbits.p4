// a header may have one varbit field at most (a struct may hold several)
#include "include/before_ingress.p4"

struct two_varbits_t { varbit<8> a; varbit<16> b; }
header two_varbits_h { bit<8> len; varbit<8> a; varbit<16> b; }

#include "include/ingress.p4"
#include "include/after_ingress.p4"
