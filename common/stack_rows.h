// The rows of a stack tool's table: each StackRecord beside the item it was
// made from (a map entry, a group of entries), kept in step while they are
// ordered and cut to the top N, so that the printer's callbacks, which get a
// record, find its item (of): klockstat's tables, memleak's groups, and the
// totals of biostacks, offcputime, wakeuptime, offwaketime, stackcount and
// futexctn (added in their order, not sorted here).
#pragma once

#include "stacks.h"

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace corescope {

template <class Item>
class StackRows {
  public:
    void add(StackRecord record, Item item) {
        records_.push_back(std::move(record));
        items_.push_back(std::move(item));
    }

    // The largest record value first, equal values in the order of
    // before(item, item); then only the first `keep` rows (0: all).
    template <class Before>
    void sort(Before&& before, size_t keep = 0) {
        std::vector<size_t> order(records_.size());
        for (size_t i = 0; i < order.size(); i++)
            order[i] = i;
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
            if (records_[a].value != records_[b].value)
                return records_[a].value > records_[b].value;
            return before(items_[a], items_[b]);
        });
        if (keep && order.size() > keep) order.resize(keep);
        std::vector<StackRecord> records;
        std::vector<Item> items;
        for (size_t i : order) {
            records.push_back(std::move(records_[i]));
            items.push_back(std::move(items_[i]));
        }
        records_ = std::move(records);
        items_ = std::move(items);
    }

    // Fills in each row's record beside its item (fill(StackRecord&, const
    // Item&)): what costs, such as naming its stacks, once the rows are cut.
    template <class Fill>
    void fill(Fill&& fill) {
        for (size_t i = 0; i < records_.size(); i++)
            fill(records_[i], items_[i]);
    }

    const std::vector<StackRecord>& records() const { return records_; }
    // The item of one of records().
    const Item& of(const StackRecord& record) const {
        return items_[static_cast<size_t>(&record - records_.data())];
    }

  private:
    std::vector<StackRecord> records_;
    std::vector<Item> items_;
};

} // namespace corescope
