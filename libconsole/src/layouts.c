/*
 * Built-in keyboard layouts. Each entry is {plain, Shift, AltGr} for one physical key; 0 means
 * the key types nothing at that level. Dead keys are not modelled: accent keys type their
 * spacing form (^ ` ´ ¨) at once. Non-ASCII characters are written as code points, with the
 * character in a comment, so the tables do not depend on the compiler's source charset.
 */
#include <console/kbd.h>

#define K(key, plain, shift, altgr) [CON_KEY_##key] = {(plain), (shift), (altgr)}

/* Letters whose three levels are just lower case, upper case, nothing. */
#define L(key, c) K(key, (c), (c)-0x20, 0)

#define U_BROKEN_BAR 0x00A6 /* ¦ */
#define U_NOT 0x00AC        /* ¬ */
#define U_POUND 0x00A3      /* £ */
#define U_EURO 0x20AC       /* € */
#define U_SECTION 0x00A7    /* § */
#define U_DEGREE 0x00B0     /* ° */
#define U_SUP2 0x00B2       /* ² */
#define U_SUP3 0x00B3       /* ³ */
#define U_SHARP_S 0x00DF    /* ß */
#define U_ACUTE 0x00B4      /* ´ */
#define U_DIAERESIS 0x00A8  /* ¨ */
#define U_MICRO 0x00B5      /* µ */
#define U_CURRENCY 0x00A4   /* ¤ */
#define U_a_ACUTE 0x00E1    /* á */
#define U_e_ACUTE 0x00E9    /* é */
#define U_i_ACUTE 0x00ED    /* í */
#define U_o_ACUTE 0x00F3    /* ó */
#define U_u_ACUTE 0x00FA    /* ú */
#define U_e_GRAVE 0x00E8    /* è */
#define U_a_GRAVE 0x00E0    /* à */
#define U_u_GRAVE 0x00F9    /* ù */
#define U_c_CEDILLA 0x00E7  /* ç */
#define U_a_UMLAUT 0x00E4   /* ä, upper case Ä is 0x00C4 */
#define U_o_UMLAUT 0x00F6   /* ö, upper case Ö is 0x00D6 */
#define U_u_UMLAUT 0x00FC   /* ü, upper case Ü is 0x00DC */

/* clang-format off */
/* US 104-key QWERTY. The ISO 105th key, if present, types \ and | as on Windows. */
static const struct con_kbd_layout layout_us = {
    .name = "us",
    .description = "US English (QWERTY, 104 keys)",
    .has_altgr = false,
    .kp_decimal = '.',
    .map = {
        K(GRAVE, '`', '~', 0), K(1, '1', '!', 0), K(2, '2', '@', 0), K(3, '3', '#', 0),
        K(4, '4', '$', 0), K(5, '5', '%', 0), K(6, '6', '^', 0), K(7, '7', '&', 0),
        K(8, '8', '*', 0), K(9, '9', '(', 0), K(0, '0', ')', 0), K(MINUS, '-', '_', 0),
        K(EQUAL, '=', '+', 0),
        L(Q, 'q'), L(W, 'w'), L(E, 'e'), L(R, 'r'), L(T, 't'), L(Y, 'y'), L(U, 'u'),
        L(I, 'i'), L(O, 'o'), L(P, 'p'), K(LBRACKET, '[', '{', 0), K(RBRACKET, ']', '}', 0),
        K(BACKSLASH, '\\', '|', 0),
        L(A, 'a'), L(S, 's'), L(D, 'd'), L(F, 'f'), L(G, 'g'), L(H, 'h'), L(J, 'j'),
        L(K, 'k'), L(L, 'l'), K(SEMICOLON, ';', ':', 0), K(APOSTROPHE, '\'', '"', 0),
        L(Z, 'z'), L(X, 'x'), L(C, 'c'), L(V, 'v'), L(B, 'b'), L(N, 'n'), L(M, 'm'),
        K(COMMA, ',', '<', 0), K(PERIOD, '.', '>', 0), K(SLASH, '/', '?', 0),
        K(NONUS_BACKSLASH, '\\', '|', 0),
    },
};

/* UK 105-key QWERTY, with the Windows AltGr extras (€, ¦ and acute vowels). */
static const struct con_kbd_layout layout_uk = {
    .name = "uk",
    .description = "UK English (QWERTY, 105 keys)",
    .has_altgr = true,
    .kp_decimal = '.',
    .map = {
        K(GRAVE, '`', U_NOT, U_BROKEN_BAR), K(1, '1', '!', 0), K(2, '2', '"', 0),
        K(3, '3', U_POUND, 0), K(4, '4', '$', U_EURO), K(5, '5', '%', 0), K(6, '6', '^', 0),
        K(7, '7', '&', 0), K(8, '8', '*', 0), K(9, '9', '(', 0), K(0, '0', ')', 0),
        K(MINUS, '-', '_', 0), K(EQUAL, '=', '+', 0),
        L(Q, 'q'), L(W, 'w'), K(E, 'e', 'E', U_e_ACUTE), L(R, 'r'), L(T, 't'), L(Y, 'y'),
        K(U, 'u', 'U', U_u_ACUTE), K(I, 'i', 'I', U_i_ACUTE), K(O, 'o', 'O', U_o_ACUTE),
        L(P, 'p'), K(LBRACKET, '[', '{', 0), K(RBRACKET, ']', '}', 0),
        K(BACKSLASH, '#', '~', 0),
        K(A, 'a', 'A', U_a_ACUTE), L(S, 's'), L(D, 'd'), L(F, 'f'), L(G, 'g'), L(H, 'h'),
        L(J, 'j'), L(K, 'k'), L(L, 'l'), K(SEMICOLON, ';', ':', 0),
        K(APOSTROPHE, '\'', '@', 0),
        L(Z, 'z'), L(X, 'x'), L(C, 'c'), L(V, 'v'), L(B, 'b'), L(N, 'n'), L(M, 'm'),
        K(COMMA, ',', '<', 0), K(PERIOD, '.', '>', 0), K(SLASH, '/', '?', 0),
        K(NONUS_BACKSLASH, '\\', '|', 0),
    },
};

/* German 105-key QWERTZ (Windows T1). ^ and ´/` are dead keys on real German layouts. */
static const struct con_kbd_layout layout_de = {
    .name = "de",
    .description = "German (QWERTZ, 105 keys)",
    .has_altgr = true,
    .kp_decimal = ',',
    .map = {
        K(GRAVE, '^', U_DEGREE, 0), K(1, '1', '!', 0), K(2, '2', '"', U_SUP2),
        K(3, '3', U_SECTION, U_SUP3), K(4, '4', '$', 0), K(5, '5', '%', 0), K(6, '6', '&', 0),
        K(7, '7', '/', '{'), K(8, '8', '(', '['), K(9, '9', ')', ']'), K(0, '0', '=', '}'),
        K(MINUS, U_SHARP_S, '?', '\\'), K(EQUAL, U_ACUTE, '`', 0),
        K(Q, 'q', 'Q', '@'), L(W, 'w'), K(E, 'e', 'E', U_EURO), L(R, 'r'), L(T, 't'),
        L(Y, 'z'), L(U, 'u'), L(I, 'i'), L(O, 'o'), L(P, 'p'), L(LBRACKET, U_u_UMLAUT),
        K(RBRACKET, '+', '*', '~'), K(BACKSLASH, '#', '\'', 0),
        L(A, 'a'), L(S, 's'), L(D, 'd'), L(F, 'f'), L(G, 'g'), L(H, 'h'), L(J, 'j'),
        L(K, 'k'), L(L, 'l'), L(SEMICOLON, U_o_UMLAUT), L(APOSTROPHE, U_a_UMLAUT),
        L(Z, 'y'), L(X, 'x'), L(C, 'c'), L(V, 'v'), L(B, 'b'), L(N, 'n'),
        K(M, 'm', 'M', U_MICRO), K(COMMA, ',', ';', 0), K(PERIOD, '.', ':', 0),
        K(SLASH, '-', '_', 0), K(NONUS_BACKSLASH, '<', '>', '|'),
    },
};

/* French 105-key AZERTY (Windows). Digits need Shift; ^ and ¨ are dead keys on real French
 * layouts. Caps Lock follows the kit's letters-only rule, so it does not shift the digit row
 * as French Windows does. */
static const struct con_kbd_layout layout_fr = {
    .name = "fr",
    .description = "French (AZERTY, 105 keys)",
    .has_altgr = true,
    .kp_decimal = '.',
    .map = {
        K(GRAVE, U_SUP2, 0, 0), K(1, '&', '1', 0), K(2, U_e_ACUTE, '2', '~'),
        K(3, '"', '3', '#'), K(4, '\'', '4', '{'), K(5, '(', '5', '['), K(6, '-', '6', '|'),
        K(7, U_e_GRAVE, '7', '`'), K(8, '_', '8', '\\'), K(9, U_c_CEDILLA, '9', '^'),
        K(0, U_a_GRAVE, '0', '@'), K(MINUS, ')', U_DEGREE, ']'), K(EQUAL, '=', '+', '}'),
        L(Q, 'a'), L(W, 'z'), K(E, 'e', 'E', U_EURO), L(R, 'r'), L(T, 't'), L(Y, 'y'),
        L(U, 'u'), L(I, 'i'), L(O, 'o'), L(P, 'p'), K(LBRACKET, '^', U_DIAERESIS, 0),
        K(RBRACKET, '$', U_POUND, U_CURRENCY), K(BACKSLASH, '*', U_MICRO, 0),
        L(A, 'q'), L(S, 's'), L(D, 'd'), L(F, 'f'), L(G, 'g'), L(H, 'h'), L(J, 'j'),
        L(K, 'k'), L(L, 'l'), L(SEMICOLON, 'm'), K(APOSTROPHE, U_u_GRAVE, '%', 0),
        L(Z, 'w'), L(X, 'x'), L(C, 'c'), L(V, 'v'), L(B, 'b'), L(N, 'n'),
        K(M, ',', '?', 0), K(COMMA, ';', '.', 0), K(PERIOD, ':', '/', 0),
        K(SLASH, '!', U_SECTION, 0), K(NONUS_BACKSLASH, '<', '>', 0),
    },
};

/* US Dvorak (ANSI positions). */
static const struct con_kbd_layout layout_dvorak = {
    .name = "dvorak",
    .description = "US Dvorak",
    .has_altgr = false,
    .kp_decimal = '.',
    .map = {
        K(GRAVE, '`', '~', 0), K(1, '1', '!', 0), K(2, '2', '@', 0), K(3, '3', '#', 0),
        K(4, '4', '$', 0), K(5, '5', '%', 0), K(6, '6', '^', 0), K(7, '7', '&', 0),
        K(8, '8', '*', 0), K(9, '9', '(', 0), K(0, '0', ')', 0), K(MINUS, '[', '{', 0),
        K(EQUAL, ']', '}', 0),
        K(Q, '\'', '"', 0), K(W, ',', '<', 0), K(E, '.', '>', 0), L(R, 'p'), L(T, 'y'),
        L(Y, 'f'), L(U, 'g'), L(I, 'c'), L(O, 'r'), L(P, 'l'), K(LBRACKET, '/', '?', 0),
        K(RBRACKET, '=', '+', 0), K(BACKSLASH, '\\', '|', 0),
        L(A, 'a'), L(S, 'o'), L(D, 'e'), L(F, 'u'), L(G, 'i'), L(H, 'd'), L(J, 'h'),
        L(K, 't'), L(L, 'n'), L(SEMICOLON, 's'), K(APOSTROPHE, '-', '_', 0),
        K(Z, ';', ':', 0), L(X, 'q'), L(C, 'j'), L(V, 'k'), L(B, 'x'), L(N, 'b'), L(M, 'm'),
        L(COMMA, 'w'), L(PERIOD, 'v'), L(SLASH, 'z'), K(NONUS_BACKSLASH, '\\', '|', 0),
    },
};

/* US Colemak. Colemak's Caps-as-Backspace and its AltGr level are not modelled. */
static const struct con_kbd_layout layout_colemak = {
    .name = "colemak",
    .description = "US Colemak",
    .has_altgr = false,
    .kp_decimal = '.',
    .map = {
        K(GRAVE, '`', '~', 0), K(1, '1', '!', 0), K(2, '2', '@', 0), K(3, '3', '#', 0),
        K(4, '4', '$', 0), K(5, '5', '%', 0), K(6, '6', '^', 0), K(7, '7', '&', 0),
        K(8, '8', '*', 0), K(9, '9', '(', 0), K(0, '0', ')', 0), K(MINUS, '-', '_', 0),
        K(EQUAL, '=', '+', 0),
        L(Q, 'q'), L(W, 'w'), L(E, 'f'), L(R, 'p'), L(T, 'g'), L(Y, 'j'), L(U, 'l'),
        L(I, 'u'), L(O, 'y'), K(P, ';', ':', 0), K(LBRACKET, '[', '{', 0),
        K(RBRACKET, ']', '}', 0), K(BACKSLASH, '\\', '|', 0),
        L(A, 'a'), L(S, 'r'), L(D, 's'), L(F, 't'), L(G, 'd'), L(H, 'h'), L(J, 'n'),
        L(K, 'e'), L(L, 'i'), L(SEMICOLON, 'o'), K(APOSTROPHE, '\'', '"', 0),
        L(Z, 'z'), L(X, 'x'), L(C, 'c'), L(V, 'v'), L(B, 'b'), L(N, 'k'), L(M, 'm'),
        K(COMMA, ',', '<', 0), K(PERIOD, '.', '>', 0), K(SLASH, '/', '?', 0),
        K(NONUS_BACKSLASH, '\\', '|', 0),
    },
};

/* clang-format on */

static const struct con_kbd_layout *const builtin_layouts[] = {
    &layout_us, &layout_uk, &layout_de, &layout_fr, &layout_dvorak, &layout_colemak,
};

static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
}

static bool name_equal(const char *a, const char *b)
{
    while (*a && ascii_lower(*a) == ascii_lower(*b)) {
        a++;
        b++;
    }
    return ascii_lower(*a) == ascii_lower(*b);
}

const struct con_kbd_layout *con_kbd_layout_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof(builtin_layouts) / sizeof(builtin_layouts[0]); i++)
        if (name_equal(name, builtin_layouts[i]->name))
            return builtin_layouts[i];
    return NULL;
}

const struct con_kbd_layout *con_kbd_layout_at(size_t index)
{
    if (index >= sizeof(builtin_layouts) / sizeof(builtin_layouts[0]))
        return NULL;
    return builtin_layouts[index];
}
