// @pkginfo without key=value pairs
#include "include/before_ingress.p4"

@pkginfo
const bit<8> LIMIT = 4;

#include "include/ingress.p4"
#include "include/after_ingress.p4"
