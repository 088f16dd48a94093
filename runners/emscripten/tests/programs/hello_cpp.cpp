// iostream hello: pulls in libc++ streams, locale and static constructors.
#include <iostream>
#include <string>
#include <vector>

static std::string global_greeting = "constructed before main";

int main() {
    std::vector<std::string> words = {"hello", "from", "c++"};
    std::string line;
    for (size_t i = 0; i < words.size(); i++) {
        if (i) line += ' ';
        line += words[i];
    }
    std::cout << line << std::endl;
    std::cout << "global: " << global_greeting << "\n";
    std::cout << "number: " << 12345 << " hex: " << std::hex << 255 << std::dec << "\n";
    std::cerr << "this goes to stderr" << std::endl;
    return 0;
}
