// 'type' applied to something other than bit<W>, int<W> or bool
#include "include/before_ingress.p4"

type metadata meta_copy_t;

#include "include/ingress.p4"
#include "include/after_ingress.p4"
