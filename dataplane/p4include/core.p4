/* core.p4: the P4_16 core library, as the dataplane emulator implements it.
 *
 * Written for dataplane from the P4_16 language specification (appendix
 * "P4 core library"). Every architecture file includes it. */

/* The guard has p4c's name: programs test it to see whether the core library is in
 * (p4c's own test programs wrap shared pieces in "#ifdef _CORE_P4_"). */
#ifndef _CORE_P4_
#define _CORE_P4_

/* Standard errors signalled by the packet parser. */
error {
    NoError,            // no error
    PacketTooShort,     // not enough bits in the packet for extract or lookahead
    NoMatch,            // no select case matched
    StackOutOfBounds,   // next/last used on a full or empty header stack
    HeaderTooShort,     // varbit extract larger than the field allows
    ParserTimeout,      // parser ran for too long
    ParserInvalidArgument  // e.g. a negative or unaligned varbit size
}

/* The packet as the parser sees it. */
extern packet_in {
    /* Read a fixed-size header and make it valid. */
    void extract<T>(out T hdr);
    /* Read a header whose last field is a varbit of the given size. */
    void extract<T>(out T variableSizeHeader, in bit<32> variableFieldSizeInBits);
    /* Read bits without consuming them. */
    T lookahead<T>();
    /* Skip bits. */
    void advance(in bit<32> sizeInBits);
    /* Length of the whole packet in bytes. */
    bit<32> length();
}

/* The packet as the deparser builds it. */
extern packet_out {
    /* Append a header (if valid), or every valid header of a stack, union or struct. */
    void emit<T>(in T hdr);
}

/* Signal a parser error unless check holds. */
extern void verify(in bool check, in error toSignal);

/* Compile-time assertion. */
extern bool static_assert(in bool check, string message);
extern bool static_assert(in bool check);

/* The action that does nothing: the default of every table without one. */
@noWarn("unused")
action NoAction() {}

/* Match kinds every target supports. */
match_kind {
    exact,
    ternary,
    lpm
}

#endif  /* _CORE_P4_ */
