/*
 * step.S - KiStepTestRoutine, called at every timer tick from
 * KeUpdateSystemTime.  Its instruction lengths are fixed (1, 5, 3, 1 bytes)
 * so tests can single-step it and check each PC and RAX exactly:
 *   +0 nop; +1 mov $0x1234, %eax; +6 add %rax, %rax (rax = 0x2468); +9 ret
 */
        .text
        .globl KiStepTestRoutine
        .p2align 4
KiStepTestRoutine:
        nop
        movl    $0x1234, %eax
        addq    %rax, %rax
        ret
