// @deprecated whose argument is not a string
#include "include/before_ingress.p4"

@deprecated("old" | "new")
void old_function() { }

#include "include/ingress.p4"
#include "include/after_ingress.p4"
