#pragma once
namespace corescope {
// corescope triage: the 60-second incident checklist in one command.
int triage_command(int argc, char** argv);
} // namespace corescope
