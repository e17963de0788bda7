// a table whose default_action comes before its actions
#include "include/before_ingress.p4"

control Filter() {
    action pass() { }
    table filter {
        default_action = pass;
        actions = { pass; }
    }
    apply {
        filter.apply();
    }
}

#include "include/ingress.p4"
#include "include/after_ingress.p4"
