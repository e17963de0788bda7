// a generic package whose type parameters no argument gives
control Stage<H>(inout H h);
control Nothing<H>(inout H h) {
    apply { }
}
package Pipeline<H>(Stage<H> s = Nothing<H>());

Pipeline() main;
