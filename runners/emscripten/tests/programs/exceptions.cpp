// C++ exceptions (built with -fexceptions: emscripten's JS-based exceptions, invoke_* trampolines).
// argv[1] == "uncaught" ends with an exception nobody catches (std::terminate -> abort).
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

struct Guard {
    const char *name;
    explicit Guard(const char *n) : name(n) { std::printf("enter %s\n", name); }
    ~Guard() { std::printf("leave %s\n", name); }
};

struct MyError : std::runtime_error {
    int code;
    MyError(const std::string &what, int c) : std::runtime_error(what), code(c) {}
};

struct Plain {
    int value;
};

static int level3(int mode) {
    Guard g("level3");
    switch (mode) {
    case 0: throw MyError("my error", 42);
    case 1: throw std::out_of_range("index 7 out of range");
    case 2: throw Plain{99};
    case 3: throw 1234;
    case 4: throw std::string("a string");
    }
    return mode;
}

static int level2(int mode) {
    Guard g("level2");
    return level3(mode) + 1;
}

static int level1(int mode) {
    Guard g("level1");
    try {
        return level2(mode);
    } catch (const std::logic_error &e) {
        std::printf("level1 caught logic_error [%s], rethrowing\n", e.what());
        throw;
    }
}

static void run(int mode) {
    try {
        int r = level1(mode);
        std::printf("mode %d returned %d\n", mode, r);
    } catch (const MyError &e) {
        std::printf("caught MyError [%s] code=%d\n", e.what(), e.code);
    } catch (const std::exception &e) {
        std::printf("caught std::exception [%s]\n", e.what());
    } catch (const Plain &p) {
        std::printf("caught Plain value=%d\n", p.value);
    } catch (int i) {
        std::printf("caught int %d\n", i);
    } catch (...) {
        std::printf("caught something else (catch ...)\n");
    }
}

int main(int argc, char **argv) {
    for (int mode = 0; mode <= 5; mode++) run(mode);

    // nested: throw inside a catch handler, caught outside
    try {
        try {
            throw std::runtime_error("first");
        } catch (const std::exception &e) {
            std::printf("inner caught [%s], throwing second\n", e.what());
            throw std::invalid_argument("second");
        }
    } catch (const std::invalid_argument &e) {
        std::printf("outer caught [%s]\n", e.what());
    }

    // exception from the library (std::string::at)
    try {
        std::string s("abc");
        std::printf("%c\n", s.at(10));
    } catch (const std::out_of_range &) {
        std::printf("caught out_of_range from std::string::at\n");
    }

    if (argc > 1 && std::strcmp(argv[1], "uncaught") == 0) {
        std::printf("throwing uncaught\n");
        std::fflush(stdout);
        Guard g("main");
        throw MyError("nobody catches this", 1);
    }
    std::printf("done\n");
    return 0;
}
