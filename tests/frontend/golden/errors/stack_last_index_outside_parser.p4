// lastIndex of a header stack read in an action
#include "include/before_ingress.p4"

header tag_t {
    bit<8> value;
}

struct tags_t {
    tag_t[4] tags;
}

action count_tags(in tags_t t, out bit<32> n) {
    n = t.tags.lastIndex;
}

#include "include/ingress.p4"
#include "include/after_ingress.p4"
