// an unknown preprocessor directive
#include "include/before_ingress.p4"
#import "include/ingress.p4"
#include "include/ingress.p4"
#include "include/after_ingress.p4"
