#include <stdlib.h>
#include <string.h>

struct node {
    int value;
    struct node *next;
};

struct node *push(struct node *head, int value)
{
    struct node *n = malloc(sizeof(*n));
    n->value = value;
    n->next = head;
    return n;
}

struct node *push_checked(struct node *head, int value)
{
    struct node *n = malloc(sizeof(*n));
    if (n == NULL) {
        return head;
    }
    n->value = value;
    n->next = head;
    return n;
}

int sum_and_free(struct node *head)
{
    int total = 0;
    while (head != NULL) {
        free(head);
        total += head->value;
        head = head->next;
    }
    return total;
}

int sum_and_free_safely(struct node *head)
{
    int total = 0;
    while (head != NULL) {
        struct node *next = head->next;
        total += head->value;
        free(head);
        head = next;
    }
    return total;
}
