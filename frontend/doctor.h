#pragma once
namespace corescope {
// corescope doctor: what this kernel and process can do, and which tools
// can run here with which attach plan.
int doctor(int argc, char** argv);
} // namespace corescope
