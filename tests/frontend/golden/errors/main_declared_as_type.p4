// an extern declared with the name main, which belongs to the package instance
#include <core.p4>

extern main {
}
