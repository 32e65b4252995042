# Lesson 5's data structures, as lessons 6 and 7's client uses them (import DataStructuresPython as ds).
# Lab: the lab's own rendition of the two classes the client needs, so that a client written as the
# lessons write it runs here as it is; the lab's client/ClientPython.py does not use this file.


# PriorityQueue keeps items ordered by a priority number: the highest priority comes out first, and
# items of the same priority come out in the order they went in
class PriorityQueue:
    def __init__(self):
        self.queue = []

    # enqueue adds an item with its priority
    # Arguments: item - what to keep, priority - a number (higher comes out sooner)
    # Return Value: None
    # Assumptions: none
    def enqueue(self, item, priority):
        i = 0
        while i < len(self.queue) and priority <= self.queue[i][1]:
            i += 1
        self.queue.insert(i, (item, priority))

    # dequeue removes the item with the highest priority
    # Arguments: None
    # Return Value: the stored (item, priority) tuple, as lesson 5 stores it
    # Assumptions: the queue is not empty (IndexError otherwise)
    def dequeue(self):
        return self.queue.pop(0)

    def __len__(self):
        return len(self.queue)

    def clear(self):
        self.queue = []


# Stack keeps items last in, first out
class Stack:
    def __init__(self):
        self.stack = []

    # push adds an item to the top of the stack
    def push(self, item):
        self.stack.append(item)

    # pop removes and returns the item on the top of the stack
    def pop(self):
        return self.stack.pop()

    # popMany removes and returns the top n items, as a list
    def popMany(self, n):
        result = self.stack[-n:]
        del self.stack[-n:]
        return result

    def __len__(self):
        return len(self.stack)

    def clear(self):
        self.stack = []
